// CTRModels: placeholder until its issue lands.
