/*
 * broker.h - okta-syncd's auth socket (issue 11): pam_okta's auth phase
 * connects to it, and okta-syncd holds the login's conversation
 * (login.h) and does all the network work.
 *
 * The socket is [auth] socket (default OKTA_AUTH_SOCKET_PATH), mode 0666
 * in a 0755 directory made when missing: any process may connect, so that
 * a non-root one gets a clear refusal (RESULT AUTHINFO_UNAVAIL "okta-syncd
 * serves root only", by SO_PEERCRED) rather than EACCES.  sshd, login, su
 * and sudo run the auth phase as root; screen lockers run as the user and
 * cannot use it.
 *
 * One thread accepts; each connection gets a thread of its own, at most
 * BROKER_MAX_CONNS logins at once (and BROKER_MAX_REFUSING non-root peers
 * being told no, which does not count against the logins) (beyond: RESULT AUTHINFO_UNAVAIL "okta-syncd is
 * busy", closed).  A conversation has BROKER_CONVERSATION_MS in all and
 * BROKER_ANSWER_MS per answer.  A bad frame or version closes that
 * connection only, after one log line that never quotes its bytes.
 */
#ifndef OKTA_BROKER_H
#define OKTA_BROKER_H

#include <stddef.h>

#include "config.h"

#define BROKER_MAX_CONNS 64
#define BROKER_MAX_REFUSING 8    /* non-root peers being refused at once */
#define BROKER_CONVERSATION_MS (5 * 60 * 1000)  /* long enough for a push */
#define BROKER_ANSWER_MS (3 * 60 * 1000)
#define BROKER_HELLO_MS (10 * 1000)

struct broker;

/*
 * Start serving logins for the config at config_path (the broker reads
 * its own copy: a reload of the daemon's does not pull it from under a
 * login).  NULL with a sentence in err when [auth] is set and the broker
 * cannot start (a bad client secret file, the socket in use or not
 * creatable); NULL with err "" when [auth] client_id is not set.
 */
struct broker *broker_start(const char *config_path, char *err,
    size_t errlen);

/* Stop: close the listener and unlink the socket, cut the logins in
 * flight (each gets RESULT AUTHINFO_UNAVAIL "okta-syncd is stopping"),
 * wait for their threads, free.  Accepts NULL. */
void broker_stop(struct broker *b);

/* The socket's path (for the log). */
const char *broker_socket(const struct broker *b);

#endif
