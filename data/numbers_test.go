package data

import "testing"

func TestNumberWords(t *testing.T) {
	cases := []struct {
		n      int
		en, de string
	}{
		{0, "zero", "null"},
		{1, "one", "eins"},
		{7, "seven", "sieben"},
		{11, "eleven", "elf"},
		{12, "twelve", "zwölf"},
		{16, "sixteen", "sechzehn"},
		{17, "seventeen", "siebzehn"},
		{20, "twenty", "zwanzig"},
		{21, "twenty-one", "einundzwanzig"},
		{30, "thirty", "dreißig"},
		{36, "thirty-six", "sechsunddreißig"},
		{67, "sixty-seven", "siebenundsechzig"},
		{77, "seventy-seven", "siebenundsiebzig"},
		{100, "one hundred", "einhundert"},
		{101, "one hundred one", "einhunderteins"},
		{111, "one hundred eleven", "einhundertelf"},
		{421, "four hundred twenty-one", "vierhunderteinundzwanzig"},
		{1000, "one thousand", "eintausend"},
		{1001, "one thousand one", "eintausendeins"},
		{2021, "two thousand twenty-one", "zweitausendeinundzwanzig"},
		{21000, "twenty-one thousand", "einundzwanzigtausend"},
		{101101, "one hundred one thousand one hundred one", "einhunderteintausendeinhunderteins"},
		{342005, "three hundred forty-two thousand five", "dreihundertzweiundvierzigtausendfünf"},
		{999999, "nine hundred ninety-nine thousand nine hundred ninety-nine", "neunhundertneunundneunzigtausendneunhundertneunundneunzig"},
	}
	for _, c := range cases {
		if got := EnglishNumber(c.n); got != c.en {
			t.Errorf("EnglishNumber(%d) = %q, want %q", c.n, got, c.en)
		}
		if got := GermanNumber(c.n); got != c.de {
			t.Errorf("GermanNumber(%d) = %q, want %q", c.n, got, c.de)
		}
	}
}

func TestNumberWordsAreUnique(t *testing.T) {
	seenEn := map[string]int{}
	seenDe := map[string]int{}
	for n := 0; n <= MaxNumber; n++ {
		en, de := EnglishNumber(n), GermanNumber(n)
		if m, ok := seenEn[en]; ok {
			t.Fatalf("%d and %d share English %q", m, n, en)
		}
		if m, ok := seenDe[de]; ok {
			t.Fatalf("%d and %d share German %q", m, n, de)
		}
		seenEn[en], seenDe[de] = n, n
	}
}
