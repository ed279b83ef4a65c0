module squall.dev/bench/go

go 1.22

require squall.dev/go/squall v0.0.0

replace squall.dev/go/squall => ../../bindings/go
