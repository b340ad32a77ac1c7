package dkim

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// signMinRSABits and signMaxRSABits bound the RSA keys Sign uses:
// RFC 8301's minimum, and the verifier's maximum.
const (
	signMinRSABits = 1024
	signMaxRSABits = 16384
)

// signMaxKeyFile bounds a key file.
const signMaxKeyFile = 64 << 10

// signKey is a parsed private key.
type signKey struct {
	signer  crypto.Signer
	keyType string // "rsa" or "ed25519"
	bits    int
}

// signNoKey reports the dkim_private_key values that mean "do not sign".
func signNoKey(s string) bool {
	s = strings.TrimSpace(s)
	return s == "" || s == "0" || s == "false"
}

// signParseKey parses a private key: PEM (PKCS #1 RSA or PKCS #8 RSA or
// Ed25519), or an Ed25519 seed (32 octets) or key (64) in base64.
func signParseKey(text []byte) (*signKey, error) {
	rest := text
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		var k any
		var err error
		switch blk.Type {
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
		default:
			continue // parameters, certificates...
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", blk.Type, err)
		}
		return signKeyOf(k)
	}
	if bytes.Contains(text, []byte("-----BEGIN")) {
		return nil, errors.New("no private key in the PEM text")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(text)), ""))
	if err != nil {
		return nil, errors.New("neither PEM nor a base64 Ed25519 key")
	}
	switch len(raw) {
	case ed25519.SeedSize:
		return signKeyOf(ed25519.NewKeyFromSeed(raw))
	case ed25519.PrivateKeySize:
		k := ed25519.NewKeyFromSeed(raw[:ed25519.SeedSize])
		if !bytes.Equal(k[ed25519.SeedSize:], raw[ed25519.SeedSize:]) {
			return nil, errors.New("base64 Ed25519 key: public half does not match the seed")
		}
		return signKeyOf(k)
	}
	return nil, fmt.Errorf("base64 key of %d octets: an Ed25519 key has 32 or 64", len(raw))
}

func signKeyOf(k any) (*signKey, error) {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		bits := k.N.BitLen()
		if bits < signMinRSABits || bits > signMaxRSABits {
			return nil, fmt.Errorf("RSA key of %d bits (want %d to %d)", bits, signMinRSABits, signMaxRSABits)
		}
		if err := k.Validate(); err != nil {
			return nil, err
		}
		k.Precompute()
		return &signKey{signer: k, keyType: "rsa", bits: bits}, nil
	case ed25519.PrivateKey:
		return &signKey{signer: k, keyType: "ed25519", bits: 256}, nil
	case *ed25519.PrivateKey:
		return &signKey{signer: *k, keyType: "ed25519", bits: 256}, nil
	}
	return nil, fmt.Errorf("unsupported key type %T (want RSA or Ed25519)", k)
}

// signKeySource is one selector's dkim_private_key: a parsed text key,
// or a file read again when it changes.
type signKeySource struct {
	path string // "" for a text key

	mu    sync.Mutex
	key   *signKey
	err   error
	info  os.FileInfo // of the file the key was read from
	size  int64
	mtime time.Time
}

// get returns the current key, reading the file again when its size,
// modification time or identity (a rename over it) changed.
func (s *signKeySource) get() (*signKey, error) {
	if s.path == "" {
		return s.key, s.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fi, err := os.Stat(s.path)
	if err != nil {
		return nil, err
	}
	if s.info != nil && os.SameFile(fi, s.info) && fi.Size() == s.size && fi.ModTime().Equal(s.mtime) {
		return s.key, s.err
	}
	s.key, s.err = signReadKeyFile(s.path)
	s.info, s.size, s.mtime = fi, fi.Size(), fi.ModTime()
	return s.key, s.err
}

func signReadKeyFile(path string) (*signKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, signMaxKeyFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > signMaxKeyFile {
		return nil, fmt.Errorf("key file larger than %d bytes", signMaxKeyFile)
	}
	return signParseKey(b)
}
