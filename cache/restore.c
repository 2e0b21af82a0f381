/* restore.c - placeholder until implemented. */
typedef int restore_placeholder;
