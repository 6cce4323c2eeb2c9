module devenv.example/standin

go 1.22
