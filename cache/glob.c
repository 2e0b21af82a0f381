/* glob.c - placeholder until implemented. */
typedef int glob_placeholder;
