module squall.dev/go/squall

go 1.22
