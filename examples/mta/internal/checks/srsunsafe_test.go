package checks

import (
	"fmt"
	"testing"

	"github.com/mailpolicy/mailpolicy/srs"
)

// An address the SRS engine refuses as unsafe is the address's fault
// (550), not a failing store (451).
func TestSRSUnsafeIsPermanent(t *testing.T) {
	if !srsPermanent(fmt.Errorf("reverse: %w", srs.ErrUnsafe)) {
		t.Error("ErrUnsafe read as a store failure")
	}
	if srsPermanent(fmt.Errorf("redis: connection refused")) {
		t.Error("a store failure read as permanent")
	}
}
