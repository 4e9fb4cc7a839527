// Package ratelimit decides whether a request may proceed under a rate such
// as "5/min", with one smooth algorithm (GCRA, the generic cell rate
// algorithm) behind three limiters:
//
//   - [Memory] keeps the state in this process, for a single instance or as a
//     fallback;
//   - [Redis] keeps it in Redis, so several instances share one budget;
//   - [Fallback] asks Redis and, while Redis does not answer, Memory.
//
// A rate of N per P allows a burst of N at once and then one request every
// P/N: "5/min" allows 5 requests immediately and then one every 12 seconds.
// Unlike a fixed window it never lets 2N through around a window boundary.
package ratelimit
