print("skipdit")
