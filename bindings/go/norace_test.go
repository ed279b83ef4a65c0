//go:build !race

package squall

const raceEnabled = false
