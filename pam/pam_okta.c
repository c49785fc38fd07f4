/* pam_okta.c - placeholder until the PAM module lands. */
#include <security/pam_modules.h>

#include "compiler.h"

OKTA_EXPORT int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh; (void)flags; (void)argc; (void)argv;
	return PAM_USER_UNKNOWN;
}
