// Prints Go's encoding/json text of float64 values: one value per input line, given as the
// 16 hex digits of its IEEE 754 bits (so no decimal parsing stands between the two sides),
// one JSON text per output line. Used by crates/core/tests/core_go_float.rs to cross-check
// agentlog's float formatting against Go itself.
//
//	echo 3ff0000000000000 | go run floats.go   # prints 1
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		bits, err := strconv.ParseUint(in.Text(), 16, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad input line:", err)
			os.Exit(2)
		}
		text, err := json.Marshal(math.Float64frombits(bits))
		if err != nil {
			fmt.Fprintf(out, "error: %v\n", err)
			continue
		}
		out.Write(text)
		out.WriteByte('\n')
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "reading stdin:", err)
		os.Exit(2)
	}
}
