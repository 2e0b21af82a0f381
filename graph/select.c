/* select.c - placeholder until implemented. */
typedef int select_placeholder;
