module fauxtp/peers/gobench

go 1.19
