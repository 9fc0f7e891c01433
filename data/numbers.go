package data

import "strings"

var (
	enOnes = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
		"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}
	enTens = []string{"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}

	deOnes = []string{"null", "ein", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun",
		"zehn", "elf", "zwölf", "dreizehn", "vierzehn", "fünfzehn", "sechzehn", "siebzehn", "achtzehn", "neunzehn"}
	deTens = []string{"", "", "zwanzig", "dreißig", "vierzig", "fünfzig", "sechzig", "siebzig", "achtzig", "neunzig"}
)

// MaxNumber is the largest integer the number-word functions accept.
const MaxNumber = 999_999

// EnglishNumber writes n (0 ≤ n ≤ 999,999) in English words, American style
// without "and": 421 → "four hundred twenty-one",
// 342005 → "three hundred forty-two thousand five".
func EnglishNumber(n int) string {
	checkNumber(n)
	if n == 0 {
		return "zero"
	}
	var parts []string
	if n >= 1000 {
		parts = append(parts, enBelow1000(n/1000), "thousand")
	}
	if r := n % 1000; r > 0 {
		parts = append(parts, enBelow1000(r))
	}
	return strings.Join(parts, " ")
}

func enBelow1000(n int) string {
	var parts []string
	if n >= 100 {
		parts = append(parts, enOnes[n/100], "hundred")
	}
	switch r := n % 100; {
	case r == 0:
	case r < 20:
		parts = append(parts, enOnes[r])
	case r%10 == 0:
		parts = append(parts, enTens[r/10])
	default:
		parts = append(parts, enTens[r/10]+"-"+enOnes[r%10])
	}
	return strings.Join(parts, " ")
}

// GermanNumber writes n (0 ≤ n ≤ 999,999) as one German word following the
// standard orthography for cardinals: units before tens joined by "und"
// (421 → "vierhunderteinundzwanzig"), "eins" only at the very end
// (101 → "einhunderteins", but 1000 → "eintausend" and
// 21000 → "einundzwanzigtausend"), and "einhundert"/"eintausend" for a
// leading one, as written out on cheques and in contracts.
func GermanNumber(n int) string {
	checkNumber(n)
	if n == 0 {
		return "null"
	}
	var b strings.Builder
	if n >= 1000 {
		b.WriteString(deBelow1000(n / 1000))
		b.WriteString("tausend")
	}
	if r := n % 1000; r > 0 {
		b.WriteString(deBelow1000(r))
		if r%100 == 1 {
			b.WriteString("s") // ein → eins at the end of the number
		}
	}
	return b.String()
}

// deBelow1000 writes 1..999 with a trailing one as "ein".
func deBelow1000(n int) string {
	var b strings.Builder
	if n >= 100 {
		b.WriteString(deOnes[n/100])
		b.WriteString("hundert")
	}
	switch r := n % 100; {
	case r == 0:
	case r < 20:
		b.WriteString(deOnes[r])
	case r%10 == 0:
		b.WriteString(deTens[r/10])
	default:
		b.WriteString(deOnes[r%10])
		b.WriteString("und")
		b.WriteString(deTens[r/10])
	}
	return b.String()
}

func checkNumber(n int) {
	if n < 0 || n > MaxNumber {
		panic("data: number out of range 0..999999")
	}
}
