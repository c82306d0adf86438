// CTRData: placeholder until its issue lands.
