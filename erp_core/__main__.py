from erp_core.cli import main

main()
