package queue

import (
	"testing"
	"time"
)

// Stats reads the count and the oldest arrival from the names alone.
func TestSpoolStats(t *testing.T) {
	s, err := OpenSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if n, age := s.Stats(); n != 0 || age != 0 {
		t.Fatalf("empty spool: %d %v", n, age)
	}
	old := b62(uint64(time.Now().Add(-2*time.Hour).Unix()), 6) + "-000001-0001"
	for _, id := range []string{NewID(), old} {
		if _, err := s.Enqueue(id, "a@b.test", []string{"c@d.test"}, []byte("x\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	n, age := s.Stats()
	if n != 2 || age < 2*time.Hour || age > 2*time.Hour+time.Minute {
		t.Errorf("Stats = %d, %v; want 2, about 2h", n, age)
	}
	if tm, ok := idTime(NewID()); !ok || time.Since(tm) > time.Minute {
		t.Errorf("idTime of a new id: %v %v", tm, ok)
	}
	if _, ok := idTime("!!!!!!-x"); ok {
		t.Error("idTime accepted a foreign name")
	}
}
