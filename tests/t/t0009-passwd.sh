#!/bin/sh
# labtape passwd: only vault.json changes; the old passphrase stops
# working, the new one reads everything; failures leave the vault as it was.
. "$(dirname "$0")/test-lib.sh"

lt_init
python3 - <<'EOF'
import json
for s in ("a", "b"):
    with open("%s.jsonl" % s, "w") as f:
        for i in range(2000):
            f.write(json.dumps({"t": "2024-12-%02dT10:00:%02d.%09dZ" % (1 + i % 2, i % 60, i),
                                "kind": "note", "data": {"text": "%s %d" % (s, i)}}) + "\n")
EOF
expect_success lt append --stream a <a.jsonl
expect_success lt append --stream b <b.jsonl
expect_success lt log --json >before.json
check_eq "events" 4000 "$(wc -l <before.json)"

data_sums() {
	(cd "$LABTAPE_VAULT" && find segments keys -type f | xargs sha256sum | sort)
}
data_sums >data.before
sha256sum <"$LABTAPE_VAULT/vault.json" >meta.before
python3 - "$LABTAPE_VAULT/vault.json" >meta.fields.before <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
print(m["id"], m["public_key"], m["created"])
EOF

OLD=$TEST_PASS
NEW='a new passphrase, much longer'

# Wrong current passphrase: refused, nothing changes.
expect_failure env LABTAPE_PASSPHRASE=nope LABTAPE_NEW_PASSPHRASE="$NEW" \
	"$LABTAPE" passwd
expect_grep "wrong passphrase" "$ERR"
sha256sum <"$LABTAPE_VAULT/vault.json" >meta.now
test_cmp meta.before meta.now
# No new passphrase and no terminal: refused, nothing changes.
expect_failure env -u LABTAPE_NEW_PASSPHRASE setsid "$LABTAPE" passwd </dev/null
expect_grep "no passphrase: there is no terminal.*LABTAPE_NEW_PASSPHRASE" "$ERR"
: >empty
expect_failure lt passwd --new-passphrase-file empty
expect_grep "passphrase is empty" "$ERR"
sha256sum <"$LABTAPE_VAULT/vault.json" >meta.now
test_cmp meta.before meta.now

# The change.
expect_success env LABTAPE_NEW_PASSPHRASE="$NEW" "$LABTAPE" passwd
expect_grep "Passphrase changed for $LABTAPE_VAULT" "$ERR"
sha256sum <"$LABTAPE_VAULT/vault.json" >meta.after
check "vault.json changed" test "$(cat meta.before)" != "$(cat meta.after)"
check_eq "vault.json is still private" 600 "$(file_mode "$LABTAPE_VAULT/vault.json")"
data_sums >data.after
test_cmp data.before data.after
python3 - "$LABTAPE_VAULT/vault.json" >meta.fields.after <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
print(m["id"], m["public_key"], m["created"])
EOF
test_cmp meta.fields.before meta.fields.after
check "no temporary files left" test -z "$(find "$LABTAPE_VAULT" -name '*.tmp*')"

# Old refused, new accepted, everything readable.
expect_failure lt log
expect_grep "wrong passphrase for vault" "$ERR"
expect_failure lt verify
expect_success env LABTAPE_PASSPHRASE="$NEW" "$LABTAPE" log --json >after.json
test_cmp before.json after.json
expect_success env LABTAPE_PASSPHRASE="$NEW" "$LABTAPE" verify >verify.out
expect_grep ': ok$' verify.out
printf '%s\n' "$NEW" >new.pass
expect_success lt stats --passphrase-file new.pass >stats.out
check_eq "stats total" 4000 "$(awk '$1 == "total" { print $2 }' stats.out)"

# Recording needs no passphrase, before or after: append still works and
# the new data reads with the new passphrase.
echo '{"t":"2024-12-03T00:00:00Z","kind":"note","data":{"text":"after passwd"}}' >c.jsonl
expect_success env -u LABTAPE_PASSPHRASE "$LABTAPE" append --stream c <c.jsonl
expect_success lt log --passphrase-file new.pass --json --stream c >c.json
expect_grep 'after passwd' c.json

# Back again with files for both, and a KDF preset.
printf '%s\n' "$OLD" >old.pass
expect_success env -u LABTAPE_PASSPHRASE "$LABTAPE" passwd \
	--passphrase-file new.pass --new-passphrase-file old.pass --kdf fast
expect_grep '"preset": "fast"' "$LABTAPE_VAULT/vault.json"
expect_failure lt log --passphrase-file new.pass
expect_success lt log --json >back.json
check_eq "everything after two changes" 4001 "$(wc -l <back.json)"
data_sums >data.back
check_eq "segments and keys only grew by the new append" 2 \
	"$(comm -13 data.before data.back | wc -l)"
check_eq "no segment or key file changed" 0 \
	"$(comm -23 data.before data.back | wc -l)"

test_done
