/*
 * commands.h - the subcommands of the okta-sync CLI.  Each takes the
 * arguments after the subcommand name (argv[0] is the subcommand) and the
 * config path from -c (NULL: the default), and returns the process exit code.
 */
#ifndef OKTA_COMMANDS_H
#define OKTA_COMMANDS_H

int cmd_test(int argc, char **argv, const char *config_path);
int cmd_sync(int argc, char **argv, const char *config_path);
int cmd_check_config(int argc, char **argv, const char *config_path);
int cmd_status(int argc, char **argv, const char *config_path);
int cmd_show(int argc, char **argv, const char *config_path);
int cmd_migrate(int argc, char **argv, const char *config_path);
int cmd_restore(int argc, char **argv, const char *config_path);
int cmd_fleet(int argc, char **argv, const char *config_path);

#endif
