/* placeholder: being written */
int zcc_placeholder_link;
