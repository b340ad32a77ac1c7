// Package retry is the reference MTA's host retry database, after
// Exim's hints database (spool/db/retry, the T:host:ip records): a host
// address that failed (no connection, a 4xx greeting or EHLO, a
// session broken by the network or a timeout) gets a time before which
// no delivery tries it again, so that a dead host costs one connection
// attempt per retry interval and not one per message.
//
// # Concept
//
// A record is kept per host name and IP address (Key: "T:name:ip", and
// ":port" when the port is not 25, as Exim's). DB.Failed records a
// failure: the first sets the next try RetryInterval later, each
// further one doubles the interval, capped at an hour (or at the
// interval when it is longer), the same schedule as the queue's per
// message backoff (queue.Backoff; Exim's retry rule "F,1h,15m" grown
// geometrically: "G,1h,15m,2"). DB.Due tells a delivery whether it may
// try the host now; before the next try time the courier defers the
// host without connecting, and a message with no host left to try is
// deferred with Exim's "retry time not reached for any host". A
// delivery the operator forces (the queue command's flush, Exim's
// -qff) ignores the records. DB.Succeeded, after a host took a
// transaction, removes its record.
//
// Records that are not failures of the host are not kept here: a
// recipient or a message refused with 4xx (Exim keeps those per
// message), a connection refused by tcp:connect or smtp:connect
// events, a delivery cut off by shutdown.
//
// # Storage
//
// The records live in memory and in one JSON file (the spool's
// db/retry), rewritten after each change to a new name, fsynced and
// renamed over the old one (package durable), so that a crash leaves
// the old file or the new one and the schedule survives a restart. A
// file that cannot be read as a database (a crash of the disk, an
// editor) is set aside with a log line and the database starts empty:
// the worst a lost record costs is one connection attempt. The number
// of records is bounded (MaxRecords, 10000): beyond it the record
// whose last failure is oldest goes. Records whose last failure is
// older than Expire (Exim's retry_data_expire, 7 days) are dropped.
//
// A DB is safe for concurrent use by the courier's deliveries. Two
// processes on one file (the server and a queue command) share it:
// each write takes an flock on the file's .lock, reads the file, puts
// the writer's own changes (records set or removed since its last
// write) over it and writes the result, which the writer then holds in
// memory too; a process sees the other's records from its next write.
package retry
