#!/bin/sh
# labtape redact: stdin to stdout with placeholders, --explain and --stats
# on stderr, rules and allow entries from the command line and from the
# [redact] section of the configuration, a names file, a large input that
# streams through in windows, errors that name what is wrong, and the
# labelled corpus of bench/redact-corpus.py (a family the detectors were
# not tuned on) scored for recall and precision.
. "$(dirname "$0")/test-lib.sh"

export XDG_CONFIG_HOME=$TRASH/config

cat >in.txt <<'EOF'
Mail alice.smith@example.com or bob@lab.org; again alice.smith@example.com.
Card 4111 1111 1111 1111, bad 4111 1111 1111 1112. SSN 123-45-6789.
IBAN DE89 3704 0044 0532 0130 00 from 203.0.113.42 (mac 00:1a:2b:3c:4d:5e).
db postgres://admin:s3cr3tP4ss@db.internal/app
AKIAZ7QW3RT5YU8IOP2L but not AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
password = "hunter2!x"  JIRA-4512 by Ada Lovelace
EOF
cat >want.txt <<'EOF'
Mail <EMAIL_1> or <EMAIL_2>; again <EMAIL_1>.
Card <CARD_1>, bad 4111 1111 1111 1112. SSN <SSN_1>.
IBAN <IBAN_1> from <IP_1> (mac <MAC_1>).
db postgres://<URL_CREDENTIALS_1>@db.internal/app
<AWS_KEY_1> but not AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
password = "<SECRET_1>"  JIRA-4512 by Ada Lovelace
EOF
expect_success "$LABTAPE" redact <in.txt >out.txt
test_cmp want.txt out.txt

# --explain: one tab-separated line per replacement on stderr.
expect_success "$LABTAPE" redact --explain <in.txt >out2.txt
test_cmp want.txt out2.txt
check "--explain prints a line per replacement" \
	test "$(grep -c "	" "$ERR")" -eq 11
expect_grep '^5	23	EMAIL	<EMAIL_1>	email	' "$ERR"
expect_grep '	CARD	<CARD_1>	card	Luhn checksum valid, Visa' "$ERR"
expect_grep '	IBAN	<IBAN_1>	iban	country DE, 22 characters, mod-97' "$ERR"
expect_no_grep 'hunter2|s3cr3tP4ss' "$ERR"

# --stats.
expect_success "$LABTAPE" redact --stats <in.txt >/dev/null
expect_grep '^EMAIL: 3 replaced$' "$ERR"
expect_grep '^total: 11 replaced$' "$ERR"

# Rules, allow entries and names, on the command line.
printf '# colleagues\nAda Lovelace [parts]\n' >names.txt
expect_success "$LABTAPE" redact --rule 'ticket:JIRA-[0-9]+' \
	--allow bob@lab.org --allow '/^203\.0\.113\./' --names names.txt \
	<in.txt >out3.txt
check "a user rule replaces" grep -q '<TICKET_1> by <NAME_1>$' out3.txt
check "an allowed literal stays" grep -q 'or bob@lab.org;' out3.txt
check "an allowed regex stays" grep -q 'from 203.0.113.42 ' out3.txt

# The same from the configuration file.
mkdir -p config/labtape
cat >config/labtape/config <<EOF
[redact]
rule = TICKET:JIRA-[0-9]+
allow = bob@lab.org
names = $TRASH/names.txt
EOF
expect_success "$LABTAPE" redact <in.txt >out4.txt
check "the [redact] section applies" grep -q '<TICKET_1> by <NAME_1>$' out4.txt
check "config allow applies" grep -q 'or bob@lab.org;' out4.txt

# Errors name what is wrong.
printf '[redact]\nrule = nocolon\n' >bad.conf
expect_code 1 "$LABTAPE" redact --config bad.conf <in.txt
expect_grep 'bad.conf:2: rule .nocolon.: write NAME:REGEX' "$ERR"
expect_code 1 "$LABTAPE" redact --config /dev/null --rule 'x:a(b' <in.txt
expect_grep "rule X 'a\(b': missing closing parenthesis" "$ERR"
expect_code 2 "$LABTAPE" redact --config /dev/null --rule 'EMAIL:x' <in.txt
expect_code 1 "$LABTAPE" redact --config /dev/null --names nowhere.txt <in.txt
expect_grep "cannot read names file 'nowhere.txt'" "$ERR"
expect_code 2 "$LABTAPE" redact extra-arg <in.txt
expect_success "$LABTAPE" redact --help
expect_success "$LABTAPE" redact --config /dev/null --print-patterns
check "the patterns run under grep -E" sh -c \
	"'$LABTAPE' redact --config /dev/null --print-patterns >pats && grep -E -c -f pats in.txt >/dev/null"

# A large input streams through in windows: 8 MiB of lines with a card
# every few lines, and a few long lines, give the same as line by line.
python3 - <<'EOF'
import random
r = random.Random(7)
with open('big.txt', 'w') as f, open('big-want.txt', 'w') as g:
    n = 0
    while n < 8 << 20:
        if r.random() < 0.01:
            words = ' '.join('w%d' % r.randint(0, 999) for _ in range(40000))
            line = words + ' 4111-1111-1111-1111 ' + words + '\n'
            want = words + ' <CARD_1> ' + words + '\n'
        elif r.random() < 0.3:
            line = 'pay 4111-1111-1111-1111 now\n'
            want = 'pay <CARD_1> now\n'
        else:
            line = want = 'line %d of text\n' % r.randint(0, 10**6)
        f.write(line)
        g.write(want)
        n += len(line)
EOF
expect_success "$LABTAPE" redact --config /dev/null <big.txt >big-out.txt
test_cmp big-want.txt big-out.txt

# The labelled corpus, family B (not what the detectors were tuned on).
CORPUS=$TEST_SRC/bench/redact-corpus.py
expect_success python3 "$CORPUS" gen --seed "$TEST_SEED" --size 2000000 \
	--family B --out corpus.txt --labels labels.jsonl
"$LABTAPE" redact --config /dev/null --explain <corpus.txt >/dev/null \
	2>explain.tsv
expect_success python3 "$CORPUS" score --labels labels.jsonl \
	--explain explain.tsv --min-recall 0.99 --min-precision 0.95

test_done
