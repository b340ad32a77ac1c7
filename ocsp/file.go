package ocsp

import (
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// FileSpec is one element of Exim's tls_ocsp_file list.
type FileSpec struct {
	Path string
	PEM  bool // read PEM blocks; otherwise the file is one DER response
}

// ParseFileList parses the value of Exim's tls_ocsp_file option: a
// colon-separated list ("<c" at the start picks another separator, a
// doubled separator is a literal one) whose n-th element serves the
// n-th tls_certificate. An element may start with "PEM " or "DER ",
// which sets the format for it and all later elements; the first
// elements are DER.
func ParseFileList(s string) ([]FileSpec, error) {
	sep := byte(':')
	rest := strings.TrimLeft(s, " \t\n")
	if len(rest) >= 2 && rest[0] == '<' && !isAlnumSpace(rest[1]) {
		sep, rest = rest[1], rest[2:]
	}
	if strings.TrimSpace(rest) == "" {
		return nil, nil
	}
	var (
		out []FileSpec
		cur strings.Builder
		pem bool
	)
	flush := func() error {
		item := strings.TrimSpace(cur.String())
		cur.Reset()
		switch {
		case strings.HasPrefix(item, "PEM "):
			pem, item = true, item[4:]
		case strings.HasPrefix(item, "DER "):
			pem, item = false, item[4:]
		}
		if item == "" {
			return errors.New("empty file name in tls_ocsp_file list")
		}
		out = append(out, FileSpec{Path: item, PEM: pem})
		return nil
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if c != sep {
			cur.WriteByte(c)
			continue
		}
		if i+1 < len(rest) && rest[i+1] == sep {
			cur.WriteByte(c)
			i++
			continue
		}
		if err := flush(); err != nil {
			return nil, err
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

func isAlnumSpace(c byte) bool {
	return c == ' ' || c == '\t' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// DecodeFile splits the contents of one tls_ocsp_file element into DER
// responses: the whole of a DER file, or every PEM block (whatever its
// label) of a PEM file. It does not parse the responses.
func DecodeFile(data []byte, isPEM bool) ([][]byte, error) {
	if !isPEM {
		if len(data) == 0 {
			return nil, errors.New("empty file")
		}
		return [][]byte{data}, nil
	}
	var out [][]byte
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		out = append(out, b.Bytes)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM block")
	}
	return out, nil
}

// loadFile reads one list element; Exim's messages name the failure.
func loadFile(fs FileSpec) ([]*parsed, []error) {
	data, err := os.ReadFile(fs.Path)
	if err != nil {
		return nil, []error{fmt.Errorf("Failed to open OCSP response file %q: %v", fs.Path, err)}
	}
	ders, err := DecodeFile(data, fs.PEM)
	if err != nil {
		if fs.PEM {
			return nil, []error{fmt.Errorf("Failed to read PEM file %q: %v", fs.Path, err)}
		}
		return nil, []error{fmt.Errorf("Error reading OCSP response from %q: %v", fs.Path, err)}
	}
	var (
		out  []*parsed
		errs []error
	)
	for i, der := range ders {
		p, err := parseRaw(der)
		if err != nil {
			errs = append(errs, fmt.Errorf("Error reading OCSP response from %q (response %d): %v", fs.Path, i+1, err))
			continue
		}
		out = append(out, p)
	}
	return out, errs
}
