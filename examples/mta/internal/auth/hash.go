package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Hash kinds accepted by HashPassword.
const (
	KindBcrypt   = "bcrypt"
	KindArgon2id = "argon2id"
)

// Parameters HashPassword uses for argon2id: RFC 9106's second
// recommended option (64 MiB, 3 passes, 4 lanes), a 16-byte salt and a
// 32-byte tag.
const (
	Argon2Memory  = 64 * 1024 // KiB
	Argon2Time    = 3
	Argon2Threads = 4
	argon2SaltLen = 16
	argon2KeyLen  = 32
)

// Bounds on argon2id parameters read from a users file. Each
// verification allocates m KiB, so an unbounded m in a file is a
// memory exhaustion waiting for the first AUTH.
const (
	maxArgon2Memory = 1 << 20 // KiB: 1 GiB
	maxArgon2Time   = 64
	minArgon2Salt   = 8
	maxArgon2Salt   = 64
	minArgon2Key    = 16
	maxArgon2Key    = 128
)

// bcryptHashLen is the length of a modular-crypt bcrypt hash:
// "$2b$" + 2-digit cost + "$" + 22 salt + 31 hash characters.
const bcryptHashLen = 60

// ErrUnknownKind is returned by HashPassword for a kind other than
// "bcrypt" and "argon2id".
var ErrUnknownKind = errors.New("auth: unknown hash kind (want bcrypt or argon2id)")

// b64 is the PHC string format's base64: standard alphabet, no padding,
// and Strict so that a hash has exactly one spelling.
var b64 = base64.RawStdEncoding.Strict()

// verifier checks a password against one parsed hash.
type verifier interface {
	verify(password []byte) bool
}

type bcryptHash []byte

func (h bcryptHash) verify(password []byte) bool {
	// CompareHashAndPassword compares in constant time.
	return bcrypt.CompareHashAndPassword(h, password) == nil
}

type argon2Hash struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

func (h *argon2Hash) verify(password []byte) bool {
	k := argon2.IDKey(password, h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(k, h.key) == 1
}

// parseHash parses a users-file hash. Its errors describe what is wrong
// without quoting the hash, which may end up in a log.
func parseHash(s string) (verifier, error) {
	switch {
	case strings.HasPrefix(s, "$2a$"), strings.HasPrefix(s, "$2b$"), strings.HasPrefix(s, "$2y$"):
		return parseBcrypt(s)
	case strings.HasPrefix(s, "$argon2id$"):
		return parseArgon2id(s)
	case strings.HasPrefix(s, "$argon2i$"), strings.HasPrefix(s, "$argon2d$"):
		return nil, errors.New("only argon2id is supported, not argon2i or argon2d")
	default:
		return nil, errors.New("unsupported hash scheme (want bcrypt $2a$, $2b$, $2y$ or $argon2id$)")
	}
}

func parseBcrypt(s string) (verifier, error) {
	if len(s) != bcryptHashLen || !isDigit(s[4]) || !isDigit(s[5]) || s[6] != '$' {
		return nil, fmt.Errorf("bcrypt hash: want %d characters as $2b$NN$<53 characters>", bcryptHashLen)
	}
	for i := 7; i < len(s); i++ {
		if !isBcryptB64(s[i]) {
			return nil, errors.New("bcrypt hash: character outside bcrypt's base64 alphabet")
		}
	}
	if _, err := bcrypt.Cost([]byte(s)); err != nil {
		return nil, fmt.Errorf("bcrypt hash: cost: %v", err)
	}
	return bcryptHash(s), nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isBcryptB64(c byte) bool {
	return c == '.' || c == '/' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
}

// parseArgon2id parses the PHC string format
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>, the form the
// reference implementation writes (parameters in that order, no keyid
// or data).
func parseArgon2id(s string) (verifier, error) {
	f := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(f) != 6 || f[0] != "" {
		return nil, errors.New("argon2id hash: want $argon2id$v=19$m=<m>,t=<t>,p=<p>$<salt>$<hash>")
	}
	if f[2] != "v=19" {
		return nil, errors.New("argon2id hash: only version v=19 is supported")
	}
	ps := strings.Split(f[3], ",")
	if len(ps) != 3 {
		return nil, errors.New("argon2id hash: parameters must be m=<m>,t=<t>,p=<p>")
	}
	m, err := phcUint(ps[0], "m=", maxArgon2Memory)
	if err != nil {
		return nil, err
	}
	t, err := phcUint(ps[1], "t=", maxArgon2Time)
	if err != nil {
		return nil, err
	}
	p, err := phcUint(ps[2], "p=", 255)
	if err != nil {
		return nil, err
	}
	if t < 1 || p < 1 || m < 8*p {
		return nil, errors.New("argon2id hash: need t >= 1, p >= 1 and m >= 8*p")
	}
	salt, err := b64.DecodeString(f[4])
	if err != nil {
		return nil, errors.New("argon2id hash: salt is not unpadded standard base64")
	}
	key, err := b64.DecodeString(f[5])
	if err != nil {
		return nil, errors.New("argon2id hash: hash is not unpadded standard base64")
	}
	if len(salt) < minArgon2Salt || len(salt) > maxArgon2Salt {
		return nil, fmt.Errorf("argon2id hash: salt must be %d to %d bytes", minArgon2Salt, maxArgon2Salt)
	}
	if len(key) < minArgon2Key || len(key) > maxArgon2Key {
		return nil, fmt.Errorf("argon2id hash: hash must be %d to %d bytes", minArgon2Key, maxArgon2Key)
	}
	return &argon2Hash{memory: uint32(m), time: uint32(t), threads: uint8(p), salt: salt, key: key}, nil
}

// phcUint parses "<name><decimal>" with the PHC format's rule for
// decimals: no sign, no leading zero.
func phcUint(s, name string, max uint64) (uint64, error) {
	v, ok := strings.CutPrefix(s, name)
	if !ok || v == "" || len(v) > 1 && v[0] == '0' || strings.TrimLeft(v, "0123456789") != "" {
		return 0, fmt.Errorf("argon2id hash: want %s<decimal> in the parameters", name)
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n > max {
		return 0, fmt.Errorf("argon2id hash: %s must be at most %d", strings.TrimSuffix(name, "="), max)
	}
	return n, nil
}

// HashPassword hashes password for a users file: kind "bcrypt" gives a
// $2a$ hash at bcrypt.DefaultCost (bcrypt refuses passwords over 72
// bytes), "argon2id" a PHC string with the Argon2* parameters and a
// random salt.
func HashPassword(password string, kind string) (string, error) {
	switch kind {
	case KindBcrypt:
		h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
		if err != nil {
			return "", fmt.Errorf("auth: bcrypt: %w", err)
		}
		return string(h), nil
	case KindArgon2id:
		salt := make([]byte, argon2SaltLen)
		if _, err := rand.Read(salt); err != nil {
			return "", fmt.Errorf("auth: argon2id salt: %w", err)
		}
		key := argon2.IDKey([]byte(password), salt, Argon2Time, Argon2Memory, Argon2Threads, argon2KeyLen)
		return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
			Argon2Memory, Argon2Time, Argon2Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
	default:
		return "", ErrUnknownKind
	}
}
