/* inputs.c - placeholder until implemented. */
typedef int inputs_placeholder;
