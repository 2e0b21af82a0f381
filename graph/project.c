/* project.c - placeholder until implemented. */
typedef int project_placeholder;
