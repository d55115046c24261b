// Command etcd is upstream's etcd server entry point, built as a standalone module so that
// `make tools` can produce the binary with `go build` and no etcd checkout.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
