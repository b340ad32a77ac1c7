package auth

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

func TestHashPasswordBcrypt(t *testing.T) {
	t.Parallel() // slow under -race: real costs
	h, err := HashPassword("s3cret", KindBcrypt)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(h, "$2a$10$"), "bcrypt at the default cost")
	cost, err := bcrypt.Cost([]byte(h))
	require.NoError(t, err)
	assert.Equal(t, bcrypt.DefaultCost, cost)
	v, err := parseHash(h)
	require.NoError(t, err)
	assert.True(t, v.verify([]byte("s3cret")))
	assert.False(t, v.verify([]byte("s3cret ")))
}

func TestHashPasswordArgon2id(t *testing.T) {
	t.Parallel() // slow under -race: real costs
	h, err := HashPassword("s3cret", KindArgon2id)
	require.NoError(t, err)
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=65536,t=3,p=4\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$`)
	m := re.FindStringSubmatch(h)
	require.NotNil(t, m, "PHC form with 16-byte salt and 32-byte tag, unpadded: %s", h)
	// The tag is what x/crypto computes from the salt in the string.
	salt, err := b64.DecodeString(m[1])
	require.NoError(t, err)
	want := argon2.IDKey([]byte("s3cret"), salt, 3, 64*1024, 4, 32)
	assert.Equal(t, b64.EncodeToString(want), m[2])

	v, err := parseHash(h)
	require.NoError(t, err)
	assert.True(t, v.verify([]byte("s3cret")))
	assert.False(t, v.verify([]byte("S3cret")))

	h2, err := HashPassword("s3cret", KindArgon2id)
	require.NoError(t, err)
	assert.NotEqual(t, h, h2, "a fresh salt each time")
}

func TestHashPasswordErrors(t *testing.T) {
	_, err := HashPassword("x", "md5")
	assert.ErrorIs(t, err, ErrUnknownKind)
	_, err = HashPassword(strings.Repeat("x", 73), KindBcrypt)
	assert.ErrorIs(t, err, bcrypt.ErrPasswordTooLong)
}

func TestParseHashVariants(t *testing.T) {
	a := fastBcrypt(t, "pw")
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		h := prefix + a[4:]
		v, err := parseHash(h)
		require.NoError(t, err, prefix)
		assert.True(t, v.verify([]byte("pw")), prefix)
		assert.False(t, v.verify([]byte("pW")), prefix)
	}
	v, err := parseHash(fastArgon2id(t, "pw"))
	require.NoError(t, err)
	assert.True(t, v.verify([]byte("pw")))
	assert.False(t, v.verify([]byte("pw2")))
}

func TestParseHashRejects(t *testing.T) {
	bc := fastBcrypt(t, "pw")
	ar := fastArgon2id(t, "pw")
	arParts := strings.Split(ar, "$") // "", argon2id, v=19, params, salt, hash
	arWith := func(i int, s string) string {
		p := append([]string(nil), arParts...)
		p[i] = s
		return strings.Join(p, "$")
	}
	cases := []struct{ hash, reason string }{
		{"", "unsupported hash scheme"},
		{"plaintext", "unsupported hash scheme"},
		{"$1$abc$def", "unsupported hash scheme"},
		{"$2x$" + bc[4:], "unsupported hash scheme"},
		{"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "only argon2id"},
		{bc[:59], "want 60 characters"},
		{bc + "x", "want 60 characters"},
		{bc[:4] + "+5" + bc[6:], "want 60 characters"},
		{bc[:4] + "03" + bc[6:], "cost"},
		{bc[:4] + "32" + bc[6:], "cost"},
		{bc[:10] + "!" + bc[11:], "alphabet"},
		{arWith(2, "v=16"), "v=19"},
		{arWith(3, "t=1,m=64,p=1"), "want m="},
		{arWith(3, "m=64,t=1"), "parameters must be"},
		{arWith(3, "m=064,t=1,p=1"), "want m="},
		{arWith(3, "m=+64,t=1,p=1"), "want m="},
		{arWith(3, "m=64,t=0,p=1"), "t >= 1"},
		{arWith(3, "m=64,t=1,p=0"), "p >= 1"},
		{arWith(3, "m=7,t=1,p=1"), "m >= 8*p"},
		{arWith(3, "m=2097152,t=1,p=1"), "m must be at most"},
		{arWith(3, "m=64,t=65,p=1"), "t must be at most"},
		{arWith(3, "m=64,t=1,p=256"), "p must be at most"},
		{arWith(3, "m=99999999999,t=1,p=1"), "m must be at most"},
		{arWith(4, arParts[4]+"=="), "salt is not"},
		{arWith(4, "c2FsdA"), "salt must be"},
		{arWith(5, arParts[5][:len(arParts[5])-1]+"!"), "hash is not"},
		{arWith(5, "aGFzaA"), "hash must be"},
		{ar + "$extra", "want $argon2id$"},
	}
	for _, c := range cases {
		_, err := parseHash(c.hash)
		if assert.Error(t, err, c.hash) {
			assert.Contains(t, err.Error(), c.reason, c.hash)
			if len(c.hash) > 20 {
				assert.NotContains(t, err.Error(), c.hash[len(c.hash)-16:], "error quotes the hash")
			}
		}
	}
}
