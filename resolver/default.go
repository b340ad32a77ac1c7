package resolver

import "sync"

var (
	defaultOnce     sync.Once
	defaultResolver *Resolver
)

// Default returns the Resolver engines use when their caller gave none:
// built on first use from /etc/resolv.conf (read once; 127.0.0.1:53 when
// the file is missing or lists no server) with the default timeout and
// no cache, then shared by every engine in the process. A server should
// build its own with New (WithCache, WithTimeout) and pass it to each
// engine.
func Default() *Resolver {
	defaultOnce.Do(func() {
		r, err := New()
		if err != nil {
			// New without options only fails on an explicit resolv.conf
			// path, so this cannot happen; fall back to libc's assumption.
			r = &Resolver{servers: []string{fallbackServer}, timeout: DefaultTimeout, retries: defaultRetries, udpSize: defaultUDPSize}
		}
		defaultResolver = r
	})
	return defaultResolver
}
