// CTRServing: placeholder until its issue lands.
