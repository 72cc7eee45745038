// Package errs is Linli's one error type. Services return *Error with a Code
// (a small closed set, mapped to HTTP exactly once in platform/web) and a
// message key from the i18n catalog, so that the same failure reads well in
// Chinese and in English, on a page, in JSON and on the command line.
package errs

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies a failure. The set is closed on purpose.
type Code string

const (
	Invalid         Code = "invalid"         // bad input; the fields say where
	NotFound        Code = "not_found"       // no such object (or not visible to the caller)
	Conflict        Code = "conflict"        // a unique value taken, a stale version, a lost race
	Forbidden       Code = "forbidden"       // authenticated but not allowed
	Unauthenticated Code = "unauthenticated" // no valid session or token
	TooMany         Code = "too_many"        // throttled; try again later
	TooLarge        Code = "too_large"       // request body or file over the limit
	Unavailable     Code = "unavailable"     // overloaded or not ready
	Internal        Code = "internal"        // a bug or an outage; details only in the log
)

// Field names one bad input and why, as a message key with arguments.
type Field struct {
	Field string
	Key   string
	Args  []any
}

// Error is a failure a user can act on.
type Error struct {
	Code   Code
	Key    string // i18n message key, e.g. "err.user.name_taken"
	Args   []any  // arguments for the message
	Fields []Field
	Err    error         // the underlying cause, for the log; never shown to users
	Retry  time.Duration // for TooMany and Unavailable: when to try again, if known
}

func (e *Error) Error() string {
	msg := string(e.Code) + ": " + e.Key
	if len(e.Args) > 0 {
		msg += fmt.Sprint(e.Args)
	}
	for _, f := range e.Fields {
		msg += fmt.Sprintf("; %s: %s%v", f.Field, f.Key, f.Args)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an error with a code and a message key.
func E(code Code, key string, args ...any) *Error {
	return &Error{Code: code, Key: key, Args: args}
}

// Wrap builds an internal error that keeps its cause for the log.
func Wrap(err error, key string) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Key: key, Err: err}
}

// Validation collects bad fields; Err returns nil when there were none.
type Validation struct{ fields []Field }

// Add records that field is wrong, with a message key.
func (v *Validation) Add(field, key string, args ...any) {
	v.fields = append(v.fields, Field{Field: field, Key: key, Args: args})
}

// Check adds the field when ok is false.
func (v *Validation) Check(ok bool, field, key string, args ...any) {
	if !ok {
		v.Add(field, key, args...)
	}
}

// Err returns an Invalid error listing every bad field, or nil.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Code: Invalid, Key: "err.invalid", Fields: v.fields}
}

// CodeOf returns the code of err, Internal for foreign errors, "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns err as *Error, wrapping foreign errors as Internal.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Key: "err.internal", Err: err}
}

// OnField is an Invalid error about one field.
func OnField(field, key string, args ...any) error {
	return &Error{Code: Invalid, Key: "err.invalid", Fields: []Field{{Field: field, Key: key, Args: args}}}
}

// TakenOnField is a Conflict on one field: a unique value taken, a state
// that moved on.
func TakenOnField(field, key string, args ...any) error {
	return &Error{Code: Conflict, Key: "err.invalid", Fields: []Field{{Field: field, Key: key, Args: args}}}
}
