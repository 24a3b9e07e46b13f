/*
 * The [redact] section of the configuration as redaction rules, for the
 * two commands that redact: labtape redact and labtape export.
 */
#include "cli.h"
#include "config.h"
#include "error.h"
#include "redact.h"
#include "banned.h"

int cli_redact_rules(const char *file, struct redact_rules *rr)
{
	struct buf path = BUF_INIT;
	struct config cfg;
	int r = 0;

	config_init(&cfg);
	if (file)
		buf_addstr(&path, file);
	else
		config_default_path(&path);
	if (config_load(&cfg, path.data, file == NULL))
		r = cli_error("%s", lt_errmsg());
	for (size_t i = 0; !r && i < cfg.nredact_rules; i++)
		if (redact_rules_add_rule_spec(rr, cfg.redact_rules[i]))
			r = cli_error("%s: %s", path.data, lt_errmsg());
	for (size_t i = 0; !r && i < cfg.nredact_allow; i++)
		if (redact_rules_add_allow(rr, cfg.redact_allow[i]))
			r = cli_error("%s: %s", path.data, lt_errmsg());
	if (!r && cfg.redact_names &&
	    redact_rules_load_names(rr, cfg.redact_names))
		r = cli_error("%s", lt_errmsg());
	config_release(&cfg);
	buf_release(&path);
	return r;
}
