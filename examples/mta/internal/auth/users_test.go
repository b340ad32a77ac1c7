package auth

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadUsersVerify(t *testing.T) {
	alice := fastBcrypt(t, "alice-pw")
	bob := fastArgon2id(t, "bob-pw")
	path := writeUsers(t, "", "# users\n\n  alice:"+alice+"\r\n\t# bob next\nbob : "+bob+"  \nAlice:"+fastBcrypt(t, "other")+"\n")
	u, err := LoadUsers(path)
	require.NoError(t, err)
	assert.Equal(t, 3, u.Len())
	assert.Equal(t, path, u.Path())

	assert.True(t, u.Verify("alice", "alice-pw"))
	assert.True(t, u.Verify("bob", "bob-pw"))
	assert.True(t, u.Verify("Alice", "other"), "names are case-sensitive: Alice is her own user")
	assert.False(t, u.Verify("Alice", "alice-pw"))
	assert.False(t, u.Verify("alice", "other"))
	assert.False(t, u.Verify("ALICE", "alice-pw"))
	assert.False(t, u.Verify("alice", "alice-pw "))
	assert.False(t, u.Verify("bob", ""))
	assert.False(t, u.Verify("carol", "alice-pw"))
	assert.False(t, u.Verify("", ""))

	ok, err := u.Authenticate("carol", "x")
	assert.False(t, ok)
	assert.NoError(t, err, "an unknown user is a plain no, not an error")
}

// countingVerifier records verifications, standing in for a hash.
type countingVerifier struct {
	mu  sync.Mutex
	n   int
	got []string
}

func (c *countingVerifier) verify(pw []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	c.got = append(c.got, string(pw))
	return true // would let anyone in if its answer were used
}

func TestUnknownUserCostsOneHash(t *testing.T) {
	path := writeUsers(t, "", "zed:"+fastBcrypt(t, "z")+"\namy:"+fastArgon2id(t, "a")+"\n")
	u, err := LoadUsers(path)
	require.NoError(t, err)
	st := u.state.Load()
	assert.Equal(t, st.table["zed"], st.dummy, "the dummy is the first user's hash: same scheme and cost")

	c := &countingVerifier{}
	u.state.Store(&usersState{info: st.info, table: st.table, dummy: c})
	assert.False(t, u.Verify("nobody", "guess"), "the dummy's answer is thrown away")
	assert.False(t, u.Verify("Zed", "z"))
	assert.Equal(t, 2, c.n, "one verification per unknown name")
	assert.Equal(t, []string{"guess", "z"}, c.got)
	assert.True(t, u.Verify("zed", "z"))
	assert.Equal(t, 2, c.n, "a known user does not also pay for the dummy")
}

func TestLoadUsersEmptyFile(t *testing.T) {
	t.Parallel()
	u, err := LoadUsers(writeUsers(t, "", "# nobody yet\n\n"))
	require.NoError(t, err)
	assert.Equal(t, 0, u.Len())
	assert.False(t, u.Verify("anyone", "pw"))
	_, isBcrypt := u.state.Load().dummy.(bcryptHash)
	assert.True(t, isBcrypt, "an empty table still verifies against a real hash")
}

func TestLoadUsersSyntaxErrors(t *testing.T) {
	good := fastBcrypt(t, "pw")
	secret := fastArgon2id(t, "pw")
	badSecret := secret[:len(secret)-3] + "!!!" // not base64: must not be echoed
	cases := []struct {
		content string
		line    int
		reason  string
	}{
		{"alice " + good + "\n", 1, `want "name:hash"`},
		{"# c\n\n:" + good + "\n", 3, "empty user name"},
		{"a:" + good + "\nb:\n", 2, `user "b": unsupported hash scheme`},
		{"a:" + good + "\nb:" + good + "\na:" + good + "\n", 3, `user "a" already given on line 1`},
		{"al\x01ice:" + good + "\n", 1, "control character"},
		{"al\xffice:" + good + "\n", 1, "not UTF-8"},
		{strings.Repeat("n", MaxFieldLen+1) + ":" + good + "\n", 1, "longer than"},
		{"x:" + good + "\r\ny:" + badSecret, 2, `user "y": argon2id hash: hash is not`},
		{"x:" + good + "\ny:plain-text-password\n", 2, "unsupported hash scheme"},
	}
	for _, c := range cases {
		path := writeUsers(t, "", c.content)
		u, err := LoadUsers(path)
		assert.Nil(t, u)
		var se *SyntaxError
		if assert.ErrorAs(t, err, &se, "%q", c.content) {
			assert.Equal(t, path, se.File)
			assert.Equal(t, c.line, se.Line, "%q", c.content)
			assert.Contains(t, se.Reason, c.reason)
			assert.Contains(t, err.Error(), fmt.Sprintf("users file %s line %d: ", path, c.line))
			for _, h := range []string{good, badSecret, "plain-text-password", good[7:], badSecret[30:]} {
				assert.NotContains(t, err.Error(), h, "the error quotes a hash")
			}
		}
	}
}

func TestLoadUsersFileErrors(t *testing.T) {
	_, err := LoadUsers(filepath.Join(t.TempDir(), "missing"))
	assert.ErrorIs(t, err, fs.ErrNotExist)

	path := filepath.Join(t.TempDir(), "huge")
	require.NoError(t, os.WriteFile(path, nil, 0o600))
	require.NoError(t, os.Truncate(path, MaxUsersFileSize+1))
	_, err = LoadUsers(path)
	assert.ErrorContains(t, err, "larger than")
}

func TestUsersReload(t *testing.T) {
	path := writeUsers(t, "", "alice:"+fastBcrypt(t, "old")+"\n")
	u, err := LoadUsers(path)
	require.NoError(t, err)
	require.True(t, u.Verify("alice", "old"))

	// A new password and a new user, the file replaced by rename.
	writeUsers(t, path, "alice:"+fastBcrypt(t, "new")+"\nbob:"+fastArgon2id(t, "b")+"\n")
	assert.False(t, u.Verify("alice", "old"))
	assert.True(t, u.Verify("alice", "new"))
	assert.True(t, u.Verify("bob", "b"))
	assert.Equal(t, 2, u.Len())

	// Rewritten in place, with the same size: the modification time
	// tells (set explicitly, the filesystem's clock may be coarse).
	same := "alice:" + fastBcrypt(t, "new") + "\nbob:" + fastArgon2id(t, "c") + "\n"
	require.NoError(t, os.WriteFile(path, []byte(same), 0o600))
	require.NoError(t, os.Chtimes(path, time.Now(), time.Now().Add(time.Hour)))
	assert.True(t, u.Verify("bob", "c"))

	// A broken file: nobody gets in, with a temporary error, not the
	// old table.
	writeUsers(t, path, "alice:"+fastBcrypt(t, "new")+"\nbob\n")
	ok, err := u.Authenticate("alice", "new")
	assert.False(t, ok)
	assert.ErrorIs(t, err, ErrUsersUnavailable)
	var se *SyntaxError
	assert.ErrorAs(t, err, &se)
	assert.ErrorContains(t, err, "line 2")
	assert.Equal(t, 0, u.Len())

	// Fixed again.
	writeUsers(t, path, "alice:"+fastBcrypt(t, "fixed")+"\n")
	assert.True(t, u.Verify("alice", "fixed"))

	// Removed.
	require.NoError(t, os.Remove(path))
	ok, err = u.Authenticate("alice", "fixed")
	assert.False(t, ok)
	assert.ErrorIs(t, err, ErrUsersUnavailable)
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestUsersConcurrent(t *testing.T) {
	t.Parallel()
	path := writeUsers(t, "", "alice:"+fastBcrypt(t, "a0")+"\n")
	u, err := LoadUsers(path)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 8; i++ {
				ok, err := u.Authenticate("alice", "a0")
				assert.NoError(t, err, "a file replaced by rename is never seen half written")
				assert.True(t, ok, "every generation has alice:a0")
				u.Verify("nobody", "x")
			}
		}()
	}
	for i := 1; i <= 10; i++ {
		writeUsers(t, path, fmt.Sprintf("alice:%s\n# generation %d\n", fastBcrypt(t, "a0"), i))
	}
	wg.Wait()
	assert.True(t, u.Verify("alice", "a0"))
}
