print("grants-admin")
