/* cmd.c - placeholder until implemented. */
typedef int cmd_placeholder;
