// logfmt_records: reads logfmt lines on stdin with go-logfmt's decoder (Debian's
// golang-github-go-logfmt-logfmt-dev) and prints each record as one JSON object of its keys
// and values, so that a test can check fields with jq. Exits 1 at the first line the decoder
// refuses, naming it.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/go-logfmt/logfmt"
)

func main() {
	dec := logfmt.NewDecoder(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for line := 1; dec.ScanRecord(); line++ {
		record := map[string]string{}
		for dec.ScanKeyval() {
			record[string(dec.Key())] = string(dec.Value())
		}
		if err := dec.Err(); err != nil {
			out.Flush()
			fmt.Fprintf(os.Stderr, "line %d: %v\n", line, err)
			os.Exit(1)
		}
		b, _ := json.Marshal(record)
		out.Write(append(b, '\n'))
	}
	if err := dec.Err(); err != nil {
		out.Flush()
		fmt.Fprintf(os.Stderr, "logfmt: %v\n", err)
		os.Exit(1)
	}
}
