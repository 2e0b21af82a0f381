/* discover.c - placeholder until implemented. */
typedef int discover_placeholder;
