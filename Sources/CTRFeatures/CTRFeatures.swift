// CTRFeatures: placeholder until its issue lands.
