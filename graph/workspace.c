/* workspace.c - placeholder until implemented. */
typedef int workspace_placeholder;
