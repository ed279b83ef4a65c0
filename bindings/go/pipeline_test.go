package squall

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// writeSyscalls is the process' count of write system calls (write,
// writev...; socket sends by sendmsg are not counted), all threads.
func writeSyscalls(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Skipf("no /proc/self/io: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "syscw: "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("no syscw in /proc/self/io")
	return 0
}

// The inline RawHandler answers a pipelined burst with one write: the
// responses are given inside the read pass of the connection, where the
// library gathers them (answered later, from the per-pass batch, the first
// response of each burst would leave in a write of its own).
func TestInlinePipelinedBurstOneWrite(t *testing.T) {
	s := rawHello()
	s.Addr = "127.0.0.1:0"
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(s.Port()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	const depth = 16
	burst := bytes.Repeat([]byte("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"), depth)
	br := bufio.NewReaderSize(conn, 64<<10)
	round := func() {
		if _, err := conn.Write(burst); err != nil {
			t.Fatal(err)
		}
		for j := 0; j < depth; j++ {
			if err := readResponse(br); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := 0; i < 20; i++ { // the first bursts show that the client pipelines
		round()
	}
	const bursts = 300
	w0 := writeSyscalls(t)
	for i := 0; i < bursts; i++ {
		round()
	}
	// Per burst: the client's write and the server's one writev.  A second
	// server write per burst would make it 3; leave room for the odd write
	// of the Go runtime.
	per := float64(writeSyscalls(t)-w0) / bursts
	t.Logf("%.2f write syscalls per burst of %d", per, depth)
	if per > 2.5 {
		t.Errorf("%.2f write syscalls per pipelined burst, want 2 (one write by the client, one by the server)", per)
	}
}
