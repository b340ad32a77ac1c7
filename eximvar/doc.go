// Package eximvar holds Exim expansion variables as name/value pairs.
//
// Exim exposes the outcome of its checks as expansion variables:
// $spf_result, $dmarc_status, $bmi_deliver, $event_name and so on. The
// engines of this module that model such variables (spf.Outcome,
// dmarc.Outcome, bmi.Eval and events.Event, each with a Variables
// method) return them as an ordered []Variable, the names as Exim
// spells them without the "$", so that a program can log, print or
// export them the same way whichever engine produced them.
//
// The order of a list is the engine's documented order; Lookup finds a
// variable by name.
//
// The package imports only the standard library, so that every engine
// can use it.
package eximvar
