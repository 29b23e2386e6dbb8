from ldseg.cli import main

main()
