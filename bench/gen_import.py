#!/usr/bin/env python3
"""bench/gen_import.py: deterministic bank files for bench/import.sh.

Writes ROWS transactions (same seed, same files, byte for byte) as a CSV export
(`Date,Payee,Details,Amount`, dates `%d/%m/%Y`, amounts `-12.34`) and an OFX 1.x SGML
statement (USD checking account, CRLF lines, one FITID per transaction). Both files hold the same
transactions in date order over 2024; every row is distinct (its details carry a reference), so a
re-import must find every one of them already in the ledger.

Usage: python3 bench/gen_import.py ROWS OUT.csv OUT.ofx
"""
import datetime
import random
import sys

VENDORS = [
    "ACME OFFICE", "BLUE BOTTLE COFFEE", "AMAZON WEB SERVICES", "DELTA AIR LINES", "UBER TRIP",
    "STAPLES", "GOOGLE CLOUD", "MARRIOTT HOTELS", "SHELL OIL", "WHOLE FOODS", "ZOOM VIDEO",
    "SLACK TECHNOLOGIES", "FEDEX", "HOME DEPOT", "COSTCO WHOLESALE", "LYFT RIDE", "ADOBE",
    "GITHUB", "DROPBOX", "ATT WIRELESS", "VERIZON", "HILTON", "SOUTHWEST AIR", "STARBUCKS",
]


def transactions(rows):
    rng = random.Random(20241202)
    start = datetime.date(2024, 1, 1)
    for i in range(rows):
        day = start + datetime.timedelta(days=i * 366 // rows)
        vendor = rng.choice(VENDORS)
        suffix = rng.randrange(1000, 10000)
        cents = int(round(10 ** rng.uniform(2, 5.7)))  # 1.00 .. ~5,000.00
        if rng.random() < 0.05:
            cents = -cents  # refunds / credits
        yield i, day, f"{vendor} #{suffix}", cents


def money(cents):
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


OFX_HEAD = (
    "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:USASCII\r\n"
    "CHARSET:1252\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n<OFX>\r\n"
    "<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20250101\r\n"
    "<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>\r\n<BANKMSGSRSV1><STMTTRNRS><TRNUID>1\r\n"
    "<STATUS><CODE>0<SEVERITY>INFO</STATUS>\r\n<STMTRS><CURDEF>USD\r\n<BANKACCTFROM>"
    "<BANKID>121000248<ACCTID>000123456789<ACCTTYPE>CHECKING</BANKACCTFROM>\r\n"
    "<BANKTRANLIST><DTSTART>20240101<DTEND>20241231\r\n"
)
OFX_TAIL = (
    "</BANKTRANLIST>\r\n<LEDGERBAL><BALAMT>0.00<DTASOF>20241231</LEDGERBAL>\r\n"
    "</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\r\n"
)


def main():
    rows, csv_path, ofx_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    with open(csv_path, "w", newline="") as csv, open(ofx_path, "w", newline="") as ofx:
        csv.write("Date,Payee,Details,Amount\n")
        ofx.write(OFX_HEAD)
        for i, day, payee, cents in transactions(rows):
            # A statement lists spending as negative amounts.
            amount = money(-cents)
            csv.write(f"{day:%d/%m/%Y},{payee},CARD 4417 REF {i:08d},{amount}\n")
            kind = "DEBIT" if cents > 0 else "CREDIT"
            ofx.write(
                f"<STMTTRN>\r\n<TRNTYPE>{kind}\r\n<DTPOSTED>{day:%Y%m%d}120000[-5:EST]\r\n"
                f"<TRNAMT>{amount}\r\n<FITID>2024{i:010d}\r\n<NAME>{payee}\r\n"
                f"<MEMO>CARD 4417 REF {i:08d}\r\n</STMTTRN>\r\n"
            )
        ofx.write(OFX_TAIL)


if __name__ == "__main__":
    main()
