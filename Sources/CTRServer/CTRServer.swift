// CTRServer: placeholder until its issue lands.
