#!/bin/sh
# Seeds the fuzz corpora from the sample files and a few bank-like CSV files.
#   ofx_parse:  tests/fixtures/ofx/**/*.ofx as they are
#   ofx_stream: the same files, each behind a first byte that picks the chunk size (0, 3, 16)
#   csv_parse:  CSV exports behind a first byte that picks one of the target's four mappings
# The corpora are generated at run time and never committed (fuzz/corpus is ignored by git).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
fixtures="$here/../tests/fixtures/ofx"
ofx="$here/corpus/ofx_parse"
stream="$here/corpus/ofx_stream"
csv="$here/corpus/csv_parse"
mkdir -p "$ofx" "$stream" "$csv"
find "$fixtures" -name '*.ofx' -type f | while read -r f; do
    name=$(echo "$f" | sed "s|^$fixtures/||; s|/|_|g")
    cp "$f" "$ofx/seed_$name"
    for chunk in 000 003 020; do
        { printf "\\$chunk"; cat "$f"; } > "$stream/seed_${chunk}_$name"
    done
done
# Mapping 0: named columns, auto dates, one amount column, USD.
printf '\000Date,Description,Amount\r\n03/04/2024,COFFEE,-4.50\r\n03/31/2024,"ACME, INC",(12.50)\r\n' > "$csv/seed_named_auto"
printf '\000sep=;\nDate;Description;Amount\n2024-01-31;Rent;"$1,234.56"\n\n' > "$csv/seed_sep_line"
# Mapping 1: numbered columns, split debit/credit, German numbers, one footer row.
printf '\00131.01.2024;12,50;\n01.02.2024;;2.500,00\nTotal;12,50;2.500,00\n' > "$csv/seed_split_footer"
# Mapping 2: a preamble line, ISO dates, currency and category columns, charges positive.
printf '\002Account 1234\ndate,payee,category,amount,currency\n2024-03-01,Uber,Travel,15.20,USD\n2024-03-02,Hotel,Travel,\xe2\x82\xac 99\xc2\xa000,EUR\n' > "$csv/seed_currency_category"
# Mapping 3: windows-1252, yen without decimals, two footer rows.
printf '\003Datum,Betrag\n13.01.2024,-1500\n14.01.2024,2000 JPY\nSumme,500\nEnde,\n' > "$csv/seed_1252_footer"
printf '\003\xff\xfeD\000a\000t\000e\000,\000A\000\n\000' > "$csv/seed_utf16"
echo "seeded $(ls "$ofx" | wc -l) ofx_parse, $(ls "$stream" | wc -l) ofx_stream, $(ls "$csv" | wc -l) csv_parse files"
