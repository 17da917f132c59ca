from hotstar_sync.cli import main

main()
