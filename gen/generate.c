/* generate.c - placeholder until implemented. */
typedef int generate_placeholder;
