// Marks the page as enhanced, to show that the script was served and ran.
document.documentElement.dataset.enhanced = "yes";
