package main

import (
	"fmt"
	"io"
	"os"
)

// maxMessage bounds what -message reads (dmarc, dcc): the engines need
// the whole message, and a command-line checker has no business with
// more.
const maxMessage = 64 << 20

func readMessage(name string) ([]byte, error) {
	var r io.Reader = os.Stdin
	if name != "-" {
		fh, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		r = fh
	}
	b, err := io.ReadAll(io.LimitReader(r, maxMessage+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxMessage {
		return nil, fmt.Errorf("message larger than %d bytes", maxMessage)
	}
	return b, nil
}
