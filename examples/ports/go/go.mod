module agentlog.example/goport

go 1.19
