// Package gathering holds GatheRing's shared vocabulary: the error codes every
// layer speaks, build information, and (as features arrive) the domain types.
// It imports only the standard library so that every other package may depend
// on it.
package gathering
