#!/bin/sh
# labtape init: creating a vault, refusing to clobber one, passphrase
# sources, permissions, vault.json; the command line itself (help, unknown
# commands, bad options).
. "$(dirname "$0")/test-lib.sh"

# ---- the command line ----------------------------------------------------

expect_success lt --help >help.out
expect_grep '^usage: labtape' help.out
expect_success lt --version >version.out
expect_grep '^labtape [0-9]+\.[0-9]+' version.out

# Every command listed in --help answers --help with its usage, exit 0.
cmds=$(sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p' help.out)
check "--help lists the commands" test -n "$cmds"
for c in init passwd append log stats verify reindex kinds; do
	check "--help lists $c" grep -q "^  $c " help.out
done
for c in $cmds; do
	expect_success lt "$c" --help >cmdhelp.out
	expect_grep "^usage: labtape $c" cmdhelp.out
	expect_success lt help "$c" >cmdhelp2.out
	test_cmp cmdhelp.out cmdhelp2.out
done

expect_code 2 lt
expect_grep 'usage: labtape' "$ERR"
expect_code 2 lt frobnicate
expect_grep "'frobnicate' is not a labtape command" "$ERR"
for c in $cmds; do
	expect_code 2 lt "$c" --no-such-option
	expect_grep "unrecognized option|see 'labtape $c --help'" "$ERR"
done
# The vault commands take no arguments besides options.
for c in init passwd append log stats verify reindex; do
	expect_code 2 lt "$c" stray-argument
	expect_grep "unexpected argument 'stray-argument'" "$ERR"
done
expect_success lt kinds >kinds.out
for k in note marker edit.op control.pause; do
	expect_grep "^$k\$" kinds.out
done
expect_success lt kinds note edit.op >kinds2.out
check_eq "kinds NAME shows that kind" "note edit.op" \
	"$(grep '^[a-z]' kinds2.out | tr '\n' ' ' | sed 's/ $//')"
expect_grep '^    \*text +string' kinds2.out
expect_failure lt kinds stray-argument
expect_grep "unknown kind 'stray-argument'" "$ERR"
expect_code 2 lt append
expect_grep 'stream NAME is required' "$ERR"
expect_code 2 lt log --since 'not a time'
expect_grep "bad time 'not a time'" "$ERR"

# ---- init ------------------------------------------------------------------

check "no vault before init" test ! -e "$LABTAPE_VAULT"
expect_failure lt verify
expect_grep "cannot open vault .*no such directory.*labtape init" "$ERR"

lt_init
expect_grep "Created vault in $LABTAPE_VAULT" "$ERR"
expect_grep "warning: the 'fast' KDF is for tests" "$ERR"
for f in vault.json index.db segments keys; do
	check "init made $f" test -e "$LABTAPE_VAULT/$f"
done

# Everything private: directories 0700, files 0600 (also after use).
check_modes() {
	bad=$(find "$LABTAPE_VAULT" \( -type d ! -perm 0700 \) -o \
		\( -type f ! -perm 0600 \))
	check_eq "$1: files 0600 and folders 0700" "" "$bad"
}
check_modes "after init"
echo '{"t":"2024-05-01T10:00:00Z","kind":"note","data":{"text":"first"}}' >one.jsonl
expect_success lt append --stream notes <one.jsonl
check_modes "after append"
check "a segment file exists" \
	test -n "$(find "$LABTAPE_VAULT/segments" -name '*.seg')"
check "a key file exists" \
	test -n "$(find "$LABTAPE_VAULT/keys" -name '*.key')"
# Hold a reader open so that the index's -wal and -shm exist, and check them.
mkfifo hold
test_bg sh -c 'exec "$LABTAPE" append --stream held <hold'
exec 8>hold
echo '{"t":"2024-05-01T10:00:01Z","kind":"note","data":{"text":"held"}}' >&8
i=0
while test $i -lt 200 && ! test -e "$LABTAPE_VAULT/index.db-shm"; do
	sleep_ms 20
	i=$((i + 1))
done
check "index.db-shm exists while a writer runs" test -e "$LABTAPE_VAULT/index.db-shm"
check_modes "with a writer running"
exec 8>&-
wait $!
check "held append exits 0" test $? = 0
test_bg_pids=

# vault.json: format, version and KDF preset.
python3 - "$LABTAPE_VAULT/vault.json" >meta.out <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
print(m["format"], m["version"], m["kdf"]["preset"], m["kdf"]["alg"])
EOF
check_eq "vault.json fields" "labtape-vault 1 fast argon2id13" "$(cat meta.out)"

# A second init, with or without the same passphrase, is refused.
before=$(tree_sums "$LABTAPE_VAULT" | grep -v index.db)
expect_failure lt init
expect_grep "'$LABTAPE_VAULT' is already a vault" "$ERR"
check_eq "a refused init leaves the vault alone" "$before" \
	"$(tree_sums "$LABTAPE_VAULT" | grep -v index.db)"
expect_success lt log --json >log.out
expect_grep '"text":"first"' log.out

# A folder that is not empty is refused too, and left as it was.
mkdir full
echo keep >full/precious
expect_failure lt init --vault "$TRASH/full"
expect_grep "not empty" "$ERR"
check_eq "non-empty folder untouched" "precious" "$(ls full)"

# An existing empty folder is fine.
mkdir empty
expect_success lt init --vault "$TRASH/empty"
check "init in an empty folder" test -f empty/vault.json
check_eq "its mode is 0700" 700 "$(file_mode empty)"

# ---- passphrases -----------------------------------------------------------

printf 'from a file\nsecond line is ignored\n' >pass.txt
expect_success env -u LABTAPE_PASSPHRASE "$LABTAPE" init --vault "$TRASH/v2" \
	--passphrase-file pass.txt
echo '{"t":"2024-05-01T11:00:00Z","kind":"note","data":{"text":"v2"}}' >v2.jsonl
expect_success lt append --vault "$TRASH/v2" --stream s <v2.jsonl
expect_success lt log --vault "$TRASH/v2" --passphrase-file pass.txt >v2.out
expect_grep 'v2' v2.out
expect_success env LABTAPE_PASSPHRASE='from a file' "$LABTAPE" log \
	--vault "$TRASH/v2" >v2b.out
test_cmp v2.out v2b.out
expect_failure lt log --vault "$TRASH/v2"
expect_grep "wrong passphrase for vault '$TRASH/v2'" "$ERR"
expect_failure lt init --vault "$TRASH/v3" --passphrase-file no-such-file
expect_grep "cannot read the passphrase" "$ERR"
check "no vault after a failed init" test ! -e v3/vault.json
: >emptypass
expect_failure lt init --vault "$TRASH/v3" --passphrase-file emptypass
expect_grep "passphrase is empty" "$ERR"

# No passphrase anywhere and no terminal to ask on: a clear error.
expect_failure env -u LABTAPE_PASSPHRASE setsid "$LABTAPE" init \
	--vault "$TRASH/v4" </dev/null
expect_grep "no passphrase: there is no terminal.*--passphrase-file" "$ERR"
check "no vault without a passphrase" test ! -e v4/vault.json
expect_failure env -u LABTAPE_PASSPHRASE setsid "$LABTAPE" log </dev/null
expect_grep "no passphrase: there is no terminal" "$ERR"
# Appending needs no passphrase.
echo '{"t":"2024-05-01T12:00:00Z","kind":"note","data":{"text":"np"}}' >np.jsonl
expect_success env -u LABTAPE_PASSPHRASE setsid "$LABTAPE" append \
	--stream notes <np.jsonl

# KDF presets.
expect_failure lt init --vault "$TRASH/v5" --kdf turbo
expect_grep "unknown KDF preset 'turbo'" "$ERR"
check "no vault with a bad KDF" test ! -e v5
expect_success env -u LABTAPE_KDF "$LABTAPE" init --vault "$TRASH/v6" --kdf fast
expect_grep '"preset": "fast"' v6/vault.json

# ---- versions ----------------------------------------------------------------

cp -r "$LABTAPE_VAULT" future
python3 - future/vault.json <<'EOF'
import json, sys
p = sys.argv[1]
m = json.load(open(p))
m["version"] = 99
open(p, "w").write(json.dumps(m, indent=2) + "\n")
EOF
for c in log verify stats reindex; do
	expect_failure lt "$c" --vault "$TRASH/future"
	expect_grep "version 99.*version 1.*upgrade labtape" "$ERR"
done
echo '{"kind":"note","data":{"text":"x"}}' >x.jsonl
expect_failure lt append --vault "$TRASH/future" --stream s <x.jsonl
expect_grep "version" "$ERR"

# Not a vault at all.
echo '{"hello": 1}' >notvault.json
mkdir notvault
cp notvault.json notvault/vault.json
expect_failure lt log --vault "$TRASH/notvault"
expect_grep "not a labtape vault file" "$ERR"
mkdir nothing
expect_failure lt log --vault "$TRASH/nothing"
expect_grep "not a vault \(run 'labtape init'" "$ERR"

test_done
